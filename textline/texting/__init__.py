"""Texting: texts in and out. Twilio's webhooks, a conversation's life from the first text to the end
(the queue, claiming, replies), the exactly-once sender, carrier keywords, the survey, and for demos and
tests a fake Twilio and a texter simulator."""
