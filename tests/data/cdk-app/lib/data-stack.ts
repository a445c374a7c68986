import { Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

// The default key policy of aws-cdk-lib v2 (@aws-cdk/aws-kms:defaultKeyPolicies, which v2
// no longer lets an app turn off): the account, kms:*. Grants to principals of this account
// go to their own IAM policies; a grant to another account goes to the key policy.
export class DataStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const handler = new lambda.Function(this, 'AppFunction', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset('lambda'),
    });
    const opsRole = new iam.Role(this, 'OpsRole', {
      assumedBy: new iam.AccountRootPrincipal(),
    });

    const key = new kms.Key(this, 'DataKey', { enableKeyRotation: true });
    key.grantEncryptDecrypt(handler);
    key.grantAdmin(opsRole);
    key.grantDecrypt(new iam.AccountPrincipal('222222222222'));
    // kmspolicy's intent: who is meant to manage the key and who to use it.
    (key.node.defaultChild as kms.CfnKey).addMetadata('kmspolicy', {
      admins: [opsRole.roleArn], users: [handler.role!.roleArn] });

    // A folder the app ships as an asset: cdk.out gets a copy of it, template included.
    new s3assets.Asset(this, 'Blueprints', { path: 'blueprints' });
  }
}
