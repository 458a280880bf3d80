"""`mldoctor fix`: from a diagnosis, changes to the user's own files that they review and apply.

`remedies` turns a finding into dialect-neutral changes (a setting and its value, with the inputs that gave it);
`edit` writes one change into a file of a known dialect, touching only the value (or adding the missing key);
`plan` puts them together into unified diffs and, for a live Kubernetes workload, `kubectl patch` commands.
mldoctor never applies anything itself.
"""
