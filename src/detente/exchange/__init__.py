"""Intelligence exchange (#14): graded reports with a marking per paragraph, tear-lines,
releases under intelligence-sharing agreements, originator control, the misinformation
guard, and the STIX 2.1 conversion federation uses (``taxii`` and ``sync`` are federation's)."""
