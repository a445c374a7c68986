import { CfnResource, Stack, Stage, StageProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

// A stage: its stacks are synthesized into a nested cloud assembly (assembly-Prod/).
export class ProdStage extends Stage {
  constructor(scope: Construct, id: string, props?: StageProps) {
    super(scope, id, props);
    new ArchiveStack(this, 'ArchiveStack');
  }
}

// No automatic rotation, accepted through cdk-nag's suppression of AwsSolutions-KMS5.
class ArchiveStack extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);

    const key = new kms.Key(this, 'ArchiveKey');
    const cfnKey = key.node.defaultChild as CfnResource;
    cfnKey.addMetadata('cdk_nag', {
      rules_to_suppress: [{ id: 'AwsSolutions-KMS5', reason: 'archive key material is rotated by re-encryption' }],
    });
  }
}
