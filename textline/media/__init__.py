"""Pictures and other files texters send (MMS): fetched from Twilio by a worker, kept on the line's
own storage, shown to volunteers only after adults-first rules (README, "Pictures and other media")."""
