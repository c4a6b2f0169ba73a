"""R45: delivering events to webhooks (fan-out, signed POSTs, retries); `pbx webhooks run`."""
