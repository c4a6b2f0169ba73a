"""The SIP edge: Kamailio in front of the Asterisk nodes (issue 9, the cluster).

render.py turns an EdgeConfig into a Kamailio 5.6 config; local.py runs one
edge as a local process; credentials.py holds the SQL view auth_db reads.
See docs/edge.md for the design and the header contract with the nodes.
"""
