// Builds stack definitions for tests (YAML files in a temp directory), e.g. the default four roles on
// the tiny model, or stacks with long stages for cancel and deadline tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export interface StageSpec {
  name: string;
  template: string;
  system?: string;
  params?: Record<string, unknown>;
  budgetMs?: number;
  model?: string;
  precision?: 'fp32' | 'int8' | 'int4';
}

export class StackBuilder {
  private readonly stages: StageSpec[] = [];

  constructor(private readonly name: string, private readonly model = 'tiny-onnx') {}

  /** The paper's four roles, like stacks/default.yaml. */
  static fourRoles(name = 'tiny4', maxNewTokens = 24, model = 'tiny-onnx'): StackBuilder {
    const p = { maxNewTokens, temperature: 0 };
    return new StackBuilder(name, model)
      .stage({ name: 'understand', system: 'You restate requests.', template: 'Restate what this request asks for.\n\nRequest: {input}', params: p })
      .stage({ name: 'keywords', template: 'Request: {input}\n\nWrite search keywords. What it asks for: {stages.understand}', params: p })
      .stage({ name: 'intermediate', template: 'Request: {input}\n\nWrite the key facts. Keywords: {stages.keywords}', params: p })
      .stage({ name: 'final', template: 'Request: {input}\n\nAnswer it. Notes: {stages.intermediate}', params: p });
  }

  stage(spec: StageSpec): this {
    this.stages.push(spec);
    return this;
  }

  /** Serves `model` (a name or an artifact directory) on the stage named `stage`. */
  withModel(stage: string, model: string): this {
    const spec = this.stages.find((s) => s.name === stage);
    if (!spec) throw new Error(`no stage ${stage} in ${this.stageNames.join(', ')}`);
    spec.model = model;
    return this;
  }

  get stageNames(): string[] {
    return this.stages.map((s) => s.name);
  }

  /** The precision a stage's spec names (its process must be started with it), or undefined for the default. */
  precisionOf(name: string): StageSpec['precision'] {
    return this.stages.find((s) => s.name === name)?.precision;
  }

  toObject(): Record<string, unknown> {
    return {
      apiVersion: 'fslm.dev/v1alpha1',
      kind: 'Stack',
      metadata: { name: this.name },
      spec: { stages: this.stages.map((s) => ({ model: this.model, ...s })) },
    };
  }

  /** Writes the YAML file and returns its path. */
  write(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fslm-stack-'));
    const file = path.join(dir, `${this.name}.yaml`);
    writeFileSync(file, stringify(this.toObject()));
    return file;
  }
}
