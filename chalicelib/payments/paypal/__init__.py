"""PayPal: Orders v2 hosted checkout, vaulted off-session charges, refunds, authorizations and verified webhooks."""
