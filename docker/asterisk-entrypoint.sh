#!/bin/sh
# An Asterisk node in a container: the repo's config, then this node's own fragments from the
# environment (the same variables as pbx/settings.py; what pbx/asterisk/local.py writes for a
# local instance), then Asterisk in the foreground. The agent renders the rest into the volume.
set -eu
conf=/etc/asterisk
cp /usr/share/pbx/asterisk-conf/* /usr/share/pbx/dialplan/* "$conf"/
host="${PBX_NODE_SIP_HOST:?}"
rtp="${PBX_RTP_PORTS:-20000-29999}"
printf 'bind = %s:%s\n' "$host" "${PBX_SIP_PORT:-5060}" > "$conf/pjsip_instance.conf"
printf '[general]\nrtpstart = %s\nrtpend = %s\n' "${rtp%-*}" "${rtp#*-}" > "$conf/rtp.conf"
printf 'bindaddr = %s\nport = %s\n\n[%s]\nsecret = %s\ndeny = 0.0.0.0/0.0.0.0\npermit = %s/255.255.255.0\nread = all\nwrite = all\n' \
  "$host" "${PBX_AMI_PORT:-5038}" "${PBX_AMI_USER:-pbx}" "${PBX_AMI_SECRET:?}" "$host" > "$conf/manager_instance.conf"
printf 'bindaddr = %s\nbindport = %s\n' "$host" "${PBX_HTTP_PORT:-8088}" > "$conf/http_instance.conf"
printf '[%s]\ntype = user\nread_only = no\npassword = %s\n' "${PBX_ARI_USER:-pbx}" "${PBX_ARI_PASSWORD:?}" > "$conf/ari_instance.conf"
# Voicemail in the node's spool until the ODBC files are written here too (docs/architecture.md).
printf 'load = app_voicemail.so\n' > "$conf/modules_voicemail.conf"
: > "$conf/voicemail_storage.conf"
for rendered in pjsip_pbx.conf extensions_pbx.conf voicemail_pbx.conf; do
  [ -e "$conf/$rendered" ] || printf '; rendered from the store by the agent\n' > "$conf/$rendered"
done
exec asterisk -f -U asterisk -G asterisk
