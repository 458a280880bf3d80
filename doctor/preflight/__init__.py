"""`mldoctor preflight`: run score.py in a bounded child process as the inference server would, and predict."""
