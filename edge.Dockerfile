# A SIP edge: Kamailio from Debian's packages, its config rendered by pbx from the settings
# (`pbx edge run --index N` renders edge N of PBX_EDGE_HOSTS and runs Kamailio in the foreground).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends kamailio kamailio-extra-modules kamailio-postgres-modules \
      kamailio-sqlite-modules python3 python3-pip python3-venv \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/pbx && /opt/pbx/bin/pip install --no-cache-dir -e .
ENV PATH=/opt/pbx/bin:$PATH
