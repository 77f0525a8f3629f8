"""Bolt listeners: ack, parse into a typed input, one service call, render, respond."""
