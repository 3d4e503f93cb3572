"""The email channel (`other_email`): SMTP out, raw RFC 5322 emails in through the signed channel webhook."""
