// The chat page: one WebSocket per room (/rooms/<room>/), JSON frames both ways.
"use strict";

const joinForm = document.getElementById("join");
const sendForm = document.getElementById("send");
const messages = document.getElementById("messages");
const users = document.getElementById("users");
const guests = document.getElementById("guests");
const status = document.getElementById("status");
let socket = null;

function show(kind, text) {
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text;
  messages.appendChild(item);
  item.scrollIntoView({ block: "end" });
}

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
  for (const field of sendForm.elements) field.disabled = state !== "open";
}

function receive(event) {
  const data = JSON.parse(event.data);
  switch (data.type) {
    case "message": show("message", `${data.user}: ${data.text}`); break;
    case "join": show("notice", `${data.user} joined`); break;
    case "leave": show("notice", `${data.user} left`); break;
    case "error": show("error", `Not sent: ${data.error}`); break;
    case "presence":
      users.replaceChildren(...data.users.map((name) => {
        const item = document.createElement("li");
        item.textContent = name;
        return item;
      }));
      guests.textContent = data.guests ? `and ${data.guests} guest(s) reading` : "";
      break;
  }
}

function join(room) {
  if (socket) socket.close();
  messages.replaceChildren();
  users.replaceChildren();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // The session cookie goes with the handshake: the room knows who we are.
  const current = new WebSocket(`${scheme}://${location.host}/rooms/${encodeURIComponent(room)}/`);
  socket = current;
  setStatus("connecting", `Joining ${room}...`);
  current.onopen = () => setStatus("open", `In room ${room}`);
  current.onmessage = receive;
  current.onclose = () => { if (socket === current) setStatus("closed", "Disconnected."); };
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  join(joinForm.elements.room.value);
});

sendForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const input = sendForm.elements.text;
  if (socket && input.value.trim()) {
    socket.send(JSON.stringify({ text: input.value }));
    input.value = "";
  }
});
