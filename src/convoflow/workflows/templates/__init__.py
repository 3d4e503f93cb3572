"""Gallery templates (WF-TPL-01/02): one JSON file per template, read by `convoflow.workflows.gallery`."""
