// The room's topic, over a second, demultiplexed socket per room (/live/<room>/): its
// "snapshot" stream says what the topic is now, its "topic" stream carries every change and
// takes our edits. Frames both ways are {"stream": name, "payload": {...}}.

const room = document.getElementById("room").dataset.room;
const topicForm = document.getElementById("topic-form");
const topic = document.getElementById("topic");
const setBy = document.getElementById("topic-by");
const topicError = document.getElementById("topic-error");
let live = null;

function showTopic(data) {
  topic.textContent = data.topic || "none yet";
  setBy.textContent = data.set_by ? `set by ${data.set_by}` : "";
}

function receive(event) {
  const { stream, payload } = JSON.parse(event.data);
  if (payload.error) topicError.textContent = `Topic not changed: ${payload.error}`;
  else if (stream === "snapshot") showTopic(payload);
  else showTopic(payload.action === "delete" ? {} : payload.data);
}

function enableEditing(enabled) {
  for (const field of topicForm.elements) field.disabled = !enabled;
}

function watch() {
  showTopic({});
  topicError.textContent = "";
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  live = new WebSocket(`${scheme}://${location.host}/live/${encodeURIComponent(room)}/`);
  live.onopen = () => enableEditing(true);
  live.onmessage = receive;
  live.onclose = () => enableEditing(false);
}

topicForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = topicForm.elements.topic;
  const edit = { action: "update", pk: room, data: { topic: input.value } };
  topicError.textContent = "";
  live.send(JSON.stringify({ stream: "topic", payload: edit }));
  input.value = "";
});

watch();
