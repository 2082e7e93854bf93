"""Small command-line helpers the workflows and the acceptance test share."""
