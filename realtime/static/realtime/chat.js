// A room's chat page: one WebSocket on the page's own path (/rooms/<room>/), JSON frames both
// ways. Joining brings the room's last messages ("history"); then each message, join and
// leave arrives as it happens, with its time. A dropped socket is opened again, backing off.
"use strict";

const page = document.getElementById("room");
const room = page.dataset.room;
const me = page.dataset.user;
const sendForm = document.getElementById("send");
const messages = document.getElementById("messages");
const users = document.getElementById("users");
const guests = document.getElementById("guests");
const status = document.getElementById("status");
// The server closes a socket whose room name is not one with this code: no retry.
const BAD_ROOM_CLOSE_CODE = 4400;
const RETRY_DELAYS = [1000, 2000, 5000, 10000, 30000];
let socket = null;
let retries = 0;
let lastError = "";

function timeElement(ts) {
  const moment = new Date(ts);
  const element = document.createElement("time");
  element.dateTime = ts;
  element.title = moment.toLocaleString();
  const today = moment.toDateString() === new Date().toDateString();
  const clock = moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  element.textContent = today ? clock : `${moment.toLocaleDateString([], { month: "short", day: "numeric" })} ${clock}`;
  return element;
}

function show(kind, { user, text, ts }) {
  if (kind === "message") document.getElementById("no-messages")?.remove();
  const item = document.createElement("li");
  item.className = kind;
  if (user && user === me && kind === "message") item.classList.add("mine");
  item.append(ts ? timeElement(ts) : document.createElement("span"));
  const body = document.createElement("span");
  if (kind === "message") {
    const author = document.createElement("strong");
    author.className = "author";
    author.textContent = user;
    body.append(author);
  }
  const words = document.createElement("span");
  words.className = "text";
  words.textContent = text;
  body.append(words);
  item.append(body);
  messages.append(item);
  item.scrollIntoView({ block: "end" });
}

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
  for (const field of sendForm.elements) field.disabled = state !== "open";
}

function showPresence(data) {
  users.replaceChildren(...data.users.map((name) => {
    const item = document.createElement("li");
    item.textContent = name;
    return item;
  }));
  guests.textContent = data.guests ? `and ${data.guests} guest(s) reading` : "";
}

function receive(event) {
  const data = JSON.parse(event.data);
  switch (data.type) {
    case "history":
      messages.replaceChildren();
      for (const message of data.messages) show("message", message);
      if (!data.messages.length) {
        show("notice", { text: "No messages yet: say hello." });
        messages.lastChild.id = "no-messages";
      }
      break;
    case "message": show("message", data); break;
    case "join": show("notice", { ...data, text: `${data.user} joined` }); break;
    case "leave": show("notice", { ...data, text: `${data.user} left` }); break;
    case "error":
      lastError = data.error;
      show("error", { text: data.error });
      break;
    case "presence": showPresence(data); break;
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // The session cookie goes with the handshake: the room knows who we are.
  const current = new WebSocket(`${scheme}://${location.host}/rooms/${encodeURIComponent(room)}/`);
  socket = current;
  setStatus("connecting", `Joining #${room}...`);
  current.onopen = () => {
    retries = 0;
    setStatus("open", "Connected");
  };
  current.onmessage = receive;
  current.onclose = (event) => {
    if (socket !== current) return;
    if (event.code === BAD_ROOM_CLOSE_CODE) {
      setStatus("error", lastError || "This is not a room name.");
      return;
    }
    const delay = RETRY_DELAYS[Math.min(retries, RETRY_DELAYS.length - 1)];
    retries += 1;
    setStatus("closed", `Disconnected; trying again in ${delay / 1000} s.`);
    setTimeout(connect, delay);
  };
}

sendForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = sendForm.elements.text;
  if (socket && input.value.trim()) {
    socket.send(JSON.stringify({ text: input.value }));
    input.value = "";
  }
});

connect();
