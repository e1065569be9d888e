"""Cases: drafts become cases, cases are routed and handled through their lifecycle, groups are listened to."""
