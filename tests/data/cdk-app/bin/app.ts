#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { DataStack } from '../lib/data-stack';
import { ProdStage } from '../lib/prod-stage';

const app = new App();
new DataStack(app, 'DataStack');
new ProdStage(app, 'Prod');
