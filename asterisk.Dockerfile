# An Asterisk node, from Debian's packages (the same Asterisk 22 the local chroot runs:
# pbx/asterisk/provision.py). Its config: the repo's asterisk-conf/ and dialplan/, the
# per-node fragments written at start from the environment (docker/asterisk-entrypoint.sh),
# and the files its agent renders from the store into the shared /etc/asterisk volume.
FROM debian:forky-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends asterisk asterisk-modules asterisk-core-sounds-en-gsm \
      odbc-postgresql unixodbc asterisk-moh-opsound-gsm \
 && rm -rf /var/lib/apt/lists/*
COPY asterisk-conf/ /usr/share/pbx/asterisk-conf/
COPY dialplan/ /usr/share/pbx/dialplan/
COPY docker/asterisk-entrypoint.sh /usr/local/bin/pbx-asterisk
ENTRYPOINT ["/usr/local/bin/pbx-asterisk"]
