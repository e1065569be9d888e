"""The shared kernel: errors, time, people, notices, events, awaited replies, privacy and the domain's words."""
