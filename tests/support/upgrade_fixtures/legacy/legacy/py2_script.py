# A Python 2 script the project never ported.
import sys

print "usage: %s ROOM" % sys.argv[0]
