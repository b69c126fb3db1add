def ws_receive(message):
    message.reply_channel.send({"text": "echo: " + message.content["text"]})
