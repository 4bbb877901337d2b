"""arch/s390: the s390x architecture code the series touches, and what it needs around it."""
