import { Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

// The default key policy of aws-cdk-lib v2 (@aws-cdk/aws-kms:defaultKeyPolicies): the
// account, kms:*; grants to roles of this account go to the roles' own policies.
export class DataStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const appRole = new iam.Role(this, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const opsRole = new iam.Role(this, 'OpsRole', {
      assumedBy: new iam.AccountRootPrincipal(),
    });

    const key = new kms.Key(this, 'DataKey', { enableKeyRotation: true });
    key.grantEncryptDecrypt(appRole);
    key.grantAdmin(opsRole);
    key.grantDecrypt(new iam.AccountPrincipal('222222222222'));
  }
}
