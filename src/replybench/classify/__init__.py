"""Classification of inbound messages: bounce, automatic reply, out-of-office, human."""
