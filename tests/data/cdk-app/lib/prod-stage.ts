import { CfnResource, Environment, NestedStack, PhysicalName, Stack, StackProps, Stage, StageProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

const PROD: Environment = { account: '111111111111', region: 'eu-west-1' };
const ANALYTICS: Environment = { account: '222222222222', region: 'eu-west-1' };

// A stage: its stacks are synthesized into a nested cloud assembly (assembly-Prod/).
export class ProdStage extends Stage {
  constructor(scope: Construct, id: string, props?: StageProps) {
    super(scope, id, props);
    const archive = new ArchiveStack(this, 'ArchiveStack', { env: PROD });
    const reader = new ReaderStack(this, 'ReaderStack', { env: ANALYTICS });
    archive.key.grantDecrypt(reader.role);
  }
}

// No automatic rotation, accepted through cdk-nag's suppression of AwsSolutions-KMS5; a
// nested stack with a key of its own.
class ArchiveStack extends Stack {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);

    this.key = new kms.Key(this, 'ArchiveKey');
    const cfnKey = this.key.node.defaultChild as CfnResource;
    cfnKey.addMetadata('cdk_nag', {
      rules_to_suppress: [{ id: 'AwsSolutions-KMS5', reason: 'archive key material is rotated by re-encryption' }],
    });
    const vault = new NestedStack(this, 'Vault');
    new kms.Key(vault, 'VaultKey', { enableKeyRotation: true });
  }
}

// A role of another account that reads the archive: a grant across accounts.
class ReaderStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.role = new iam.Role(this, 'ReaderRole', {
      roleName: PhysicalName.GENERATE_IF_NEEDED,
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
    });
  }
}
