"""The test project of the library's own tests: settings, routes and URLs of its own, so
that what the demo does (its apps, pages, session engine, capacities) never shapes a test of
channels_classic. The demo's own tests run on the demo's settings."""
