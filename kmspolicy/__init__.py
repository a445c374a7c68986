"""kmspolicy: effective access to AWS KMS keys in SAM and CloudFormation templates."""

__version__ = "0.1.0"
