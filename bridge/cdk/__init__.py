"""AWS CDK cloud assemblies: which construct made each resource, and which line of the app.

A cloud assembly (`cdk.out/`, or wherever `cdk synth --output` wrote it) is a folder with a
`manifest.json`: its artifacts of type `aws:cloudformation:stack` name their templates
(`properties.templateFile`) and map construct paths to logical IDs (`metadata`, or in
newer CDK versions the file named by `additionalMetadataFile`); artifacts of type
`cdk:cloud-assembly` are the nested assemblies of stages (`properties.directoryName`).
Synthesized with `cdk synth --debug` or `CDK_DEBUG=true`, each construct also has the
trace of its creation (an `aws:cdk:creationStack` entry; in older versions the `trace` of
each entry). A stack's `environment` may name the account it deploys to; its nested stacks'
templates are files of its asset manifest.

- `assembly`: reading manifests (`read_manifest`, `stack_for_template`, `deployment_account`);
- `traces`: the first frame of a creation trace in the application's own code, and the
  file it names, found beside the assembly;
- `annotate`: the construct and source location of each finding of a template.
"""

from .annotate import annotate_findings
from .assembly import AssemblyError, ManifestInfo, is_assembly_dir, read_manifest, stack_for_template

__all__ = ["AssemblyError", "ManifestInfo", "annotate_findings", "is_assembly_dir", "read_manifest",
           "stack_for_template"]
