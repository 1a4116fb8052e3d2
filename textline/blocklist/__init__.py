"""The blocklist (adults block an abusive texter, safely) and flood throttling. See blocks.py, floods.py."""
