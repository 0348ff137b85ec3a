"""The long-running service: MQTT in and out, the journal, discovery, systemd integration."""
