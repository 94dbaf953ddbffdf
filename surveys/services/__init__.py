"""Every write of the satisfaction app, by area: ``callbacks``, ``weekly``, ``questionnaires``,
``campaigns``, ``invitations`` (and the customer's response)."""
