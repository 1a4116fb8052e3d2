"""Textline: a peer-support text line run by teens for teens, with adults supervising."""
