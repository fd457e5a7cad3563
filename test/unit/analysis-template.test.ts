import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { projectRoot } from '../../src/analysis/paths';
import { loadRegistry } from '../../src/analysis/registry';
import type { AnalysisRegistry } from '../../src/analysis/definition';
import { ErrorType } from '../../src/errors';
import { checkParameterSets } from '../../src/planning/parameters';
import type { AnalysisSpec, Task } from '../../src/types';
import { runInScratch } from '../fixtures/run-analysis';
import { makeTask } from '../fixtures/tasks';

/**
 * Scripts written for the institute's analysis wrapper template (`run_analysis_jobs`), run by the
 * project's helper: the shipped port of the template's example, and a script of the same form in
 * a folder of its own, which finds the helper installed in the workers' Python.
 */
const root = projectRoot();
const venvBin = join(root, '.dev', 'venv', 'bin');
const venvPython = join(venvBin, 'python3');
const withVenv = existsSync(venvPython) ? {} : { skip: 'no .dev/venv (scripts/install-python-formats.sh)' };

/** A template script as a scientist writes one: GenericModel parameters needing analysis_name. */
const probeScript = `
import json
from typing import Optional
from pydantic import BaseModel, Field
from aind_data_schema.base import GenericModel
from analysis_helper import run_analysis_jobs


class ProbeParameters(GenericModel):
    analysis_name: str
    threshold: float = Field(..., gt=0)
    mode: str = "plain"


class ProbeOutputs(BaseModel):
    model_type: str
    parameters: dict
    s3_location: list
    file_location: Optional[list] = None
    code_parameters: dict
    count: int = 0


def run_analysis(analysis_dispatch_inputs, analysis_parameters):
    if analysis_parameters.mode == "none":
        return None
    if analysis_parameters.mode == "bad":
        return {"model_type": 1}
    outputs = ProbeOutputs(
        model_type=type(analysis_dispatch_inputs).__module__ + "." + type(analysis_dispatch_inputs).__name__,
        parameters=analysis_parameters.model_dump(),
        s3_location=analysis_dispatch_inputs.s3_location,
        file_location=analysis_dispatch_inputs.file_location,
        code_parameters=analysis_dispatch_inputs.analysis_code.parameters.model_dump(),
        count=len(analysis_dispatch_inputs.asset_name),
    )
    return outputs if analysis_parameters.mode == "model" else outputs.model_dump()


if __name__ == "__main__":
    run_analysis_jobs(
        analysis_input_model=ProbeParameters,
        analysis_output_model=ProbeOutputs,
        run_function=run_analysis,
    )
`;

void describe('wrapper-template analyses (run_analysis_jobs)', () => {
  let scratch: string;
  let shipped: AnalysisRegistry;
  let own: AnalysisRegistry;
  let path: string | undefined;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'template-'));
    shipped = await loadRegistry(join(root, 'analyses'));
    // A folder of its own: no analysis_helper.py beside the script.
    const folder = await mkdtemp(join(scratch, 'analyses-'));
    await writeFile(join(folder, 'probe.py'), probeScript);
    if (existsSync(venvPython)) {
      const schemas = JSON.parse(
        execFileSync(venvPython, [join(folder, 'probe.py'), '--schemas'], { encoding: 'utf8', cwd: scratch }),
      ) as Record<string, unknown>;
      await writeFile(
        join(folder, 'probe.analysis.json'),
        JSON.stringify({ name: 'Probe', command: ['python3', 'probe.py'], max_attempts: 1, ...schemas }),
      );
    }
    own = await loadRegistry(folder);
    // The workers' python3 is the venv's, as the demo's and the tests' workers run.
    path = process.env.PATH;
    process.env.PATH = `${venvBin}:${path ?? ''}`;
  });
  after(async () => {
    process.env.PATH = path;
    await rm(scratch, { recursive: true, force: true });
  });

  const run = (registry: AnalysisRegistry, task: Task) =>
    runInScratch(scratch, task, registry, { allowSpecCommands: false });

  const input = {
    s3_location: ['s3://demo/a1', 's3://demo/a2'],
    asset_name: ['a1', 'a2'],
    docdb_record_id: ['1', '2'],
    file_location: [],
  };

  void test(
    'unit_filtering.analysis.json holds the schemas unit_filtering.py --schemas prints',
    withVenv,
    () => {
      const printed = JSON.parse(
        execFileSync(venvPython, [join(root, 'analyses', 'unit_filtering.py'), '--schemas'], {
          encoding: 'utf8',
        }),
      ) as { parameters: { properties: Record<string, { description: unknown }> } };
      const declared = JSON.parse(
        readFileSync(join(root, 'analyses', 'unit_filtering.analysis.json'), 'utf8'),
      ) as {
        parameters: unknown;
        outputs: unknown;
      };
      assert.deepEqual({ parameters: declared.parameters, outputs: declared.outputs }, printed);
      // The template writes this description with a stray comma (a tuple): a schema needs a string.
      assert.equal(
        printed.parameters.properties.analysis_tag?.description,
        'User-defined tag to organize results for querying analysis output',
      );
      assert.ok(shipped.command?.('Unit Filtering'), 'the manifest is served');
      assert.deepEqual(shipped.problems, []);
    },
  );

  void test('the template example runs as ported, analysis_name coming from the spec', withVenv, async () => {
    const spec = (
      JSON.parse(await readFile(join(root, 'analyses/specs/unit-filtering.json'), 'utf8')) as AnalysisSpec[]
    )[0]!;
    const task = makeTask(spec, { parameters: spec.analysis_parameters, input });
    const { outputs, files } = await run(shipped, task);
    assert.deepEqual(outputs, {
      isi_violations: ['example_violation_1', 'example_violation_2'],
      additional_info: 'This is an example of additional information about the analysis.',
    });
    assert.deepEqual(files, ['outputs.json']);
    // Plan time counts analysis_name the same way: the spec need not repeat it...
    assert.doesNotThrow(() =>
      checkParameterSets([spec], { fixed_parameters: {}, distributed_parameters: [] }, shipped),
    );
    // ...and still checks the fields the model requires, naming them.
    assert.throws(
      () =>
        checkParameterSets(
          [{ ...spec, analysis_parameters: { analysis_tag: 'V1' } }],
          { fixed_parameters: {}, distributed_parameters: [] },
          shipped,
        ),
      /invalid parameters for analysis "Unit Filtering".*isi_violations_cutoff: is required/,
    );
  });

  void test(
    'run_function gets the institute AnalysisDispatchModel and the validated model; dict, model and None returns',
    withVenv,
    async () => {
      const spec = { analysis_name: 'Probe' };
      const dictRun = await run(own, makeTask(spec, { parameters: { threshold: 2 }, input }));
      assert.deepEqual(dictRun.outputs, {
        model_type: 'analysis_pipeline_utils.analysis_dispatch_model.AnalysisDispatchModel',
        parameters: { analysis_name: 'Probe', threshold: 2, mode: 'plain' },
        s3_location: input.s3_location,
        file_location: null,
        code_parameters: { threshold: 2, analysis_name: 'Probe', analysis_version: 'v1' },
        count: 2,
      });
      // A name the parameters set is the one the model sees, as in the wrapper's records.
      const named = await run(
        own,
        makeTask(spec, { parameters: { threshold: 2, mode: 'model', analysis_name: 'Units V2' }, input }),
      );
      assert.deepEqual((named.outputs.parameters as Record<string, unknown>).analysis_name, 'Units V2');
      assert.equal(named.outputs.count, 2);
      // None is validated by the output model too: this one requires fields, so the run fails, naming them.
      await assert.rejects(
        run(own, makeTask(spec, { parameters: { threshold: 2, mode: 'none' }, input })),
        /invalid outputs: model_type: Field required/,
      );
      await assert.rejects(
        run(own, makeTask(spec, { parameters: { threshold: 2, mode: 'bad' }, input })),
        /invalid outputs: model_type: Input should be a valid string/,
      );
      // The worker checks the parameters against the manifest before the program starts.
      await assert.rejects(
        run(own, makeTask(spec, { parameters: { threshold: 0 }, input })),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.type === ErrorType.InvalidParameters &&
          /threshold: must be > 0/.test(err.message),
      );
    },
  );

  void test(
    'without analysis-pipeline-utils, run_function gets an object with the same attributes',
    withVenv,
    () => {
      const program = `
import builtins, json, sys
sys.path.insert(0, ${JSON.stringify(join(root, 'analyses'))})
real_import = builtins.__import__
def refuse(name, *args, **kwargs):
    if name.startswith("analysis_pipeline_utils"):
        raise ImportError(name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = refuse
import analysis_helper
task = json.loads(sys.stdin.read())
inputs = analysis_helper.dispatch_inputs(task)
print(json.dumps({
    "type": type(inputs).__name__,
    "s3_location": inputs.s3_location,
    "file_location": inputs.file_location,
    "group_metadata": inputs.group_metadata,
    "code_url": inputs.analysis_code.url,
    "code_parameters": inputs.analysis_code.parameters.model_dump(),
    "dump": sorted(inputs.model_dump()),
    "hash_hidden": not hasattr(inputs, "hash"),
}))
`;
      const task = {
        hash: 'abc',
        s3_location: ['s3://demo/a1'],
        asset_name: ['a1'],
        docdb_record_id: ['1'],
        file_location: ['s3://demo/a1/x.nwb'],
        distributed_parameters: null,
        group_metadata: null,
        query: null,
        analysis_code: { object_type: 'Code', url: 'https://example.org/x', parameters: { k: 1 } },
      };
      const answer = JSON.parse(
        execFileSync(venvPython, ['-c', program], { input: JSON.stringify(task), encoding: 'utf8' }),
      ) as Record<string, unknown>;
      assert.deepEqual(answer, {
        type: 'DispatchInputs',
        s3_location: ['s3://demo/a1'],
        file_location: ['s3://demo/a1/x.nwb'],
        group_metadata: null,
        code_url: 'https://example.org/x',
        code_parameters: { k: 1 },
        dump: [
          'analysis_code',
          'asset_name',
          'distributed_parameters',
          'docdb_record_id',
          'file_location',
          'group_metadata',
          'query',
          's3_location',
        ],
        hash_hidden: true,
      });
    },
  );

  void test(
    'a capsule task (AnalysisDispatchModel alone) gives the model its code parameters and distributed ones',
    withVenv,
    () => {
      const program = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(root, 'analyses'))})
from pydantic import BaseModel
import analysis_helper
class Named(BaseModel):
    analysis_name: str
    cutoff: float
class Plain(BaseModel):
    cutoff: float
task = json.loads(sys.stdin.read())
print(json.dumps([analysis_helper.template_parameters(task, Named), analysis_helper.template_parameters(task, Plain)]))
`;
      // The template's own example task file (data/job_dict/example_dispatch_job.json), shortened.
      const capsuleTask = {
        s3_location: ['s3://bucket/asset'],
        asset_name: ['820117_example_asset'],
        docdb_record_id: ['dfb3a13e'],
        file_location: null,
        distributed_parameters: { cutoff: 0.05 },
        analysis_code: {
          object_type: 'Code',
          url: 'https://codeocean.allenneuraldynamics.org/capsule/4544861',
          version: 'ad6db0dc',
          parameters: { analysis_name: 'Unit Filtering', cutoff: 0.8 },
        },
      };
      const answer = JSON.parse(
        execFileSync(venvPython, ['-c', program], { input: JSON.stringify(capsuleTask), encoding: 'utf8' }),
      ) as unknown;
      assert.deepEqual(answer, [
        { analysis_name: 'Unit Filtering', cutoff: 0.05 },
        { analysis_name: 'Unit Filtering', cutoff: 0.05 },
      ]);
    },
  );

  void test(
    "unit_filtering.py runs on a capsule's layout: the template's own example job in job_dict/",
    withVenv,
    async () => {
      const data = await mkdtemp(join(scratch, 'data-'));
      const results = await mkdtemp(join(scratch, 'results-'));
      // data/job_dict/example_dispatch_job.json of the wrapper template, as its capsule receives it.
      const example = {
        asset_name: ['820117_example_asset'],
        s3_location: ['s3://codeocean-s3datasetsbucket-1u41qdg42ur9/8351747a-f472-43f9-a53b-cd1f9aa35288'],
        docdb_record_id: ['dfb3a13e-ed0b-48bc-8ede-d68da8f3fb8b'],
        file_location: null,
        distributed_parameters: { isi_violations_cutoff: 0.05 },
        group_metadata: null,
        query: '{"subject.subject_id": "820117"}',
        analysis_code: {
          object_type: 'Code',
          url: 'https://codeocean.allenneuraldynamics.org/capsule/4544861',
          name: null,
          version: 'ad6db0dca9e5fffc1544686c01f39aac1e46c841',
          container: null,
          run_script: 'code/run',
          language: null,
          language_version: null,
          input_data: [
            {
              object_type: 'Data asset',
              url: 's3://codeocean-s3datasetsbucket-1u41qdg42ur9/8351747a-f472-43f9-a53b-cd1f9aa35288',
            },
          ],
          parameters: { analysis_name: 'Unit Filtering', analysis_tag: 'V1', isi_violations_cutoff: 0.8 },
          core_dependency: null,
        },
      };
      await mkdir(join(data, 'job_dict'));
      await writeFile(join(data, 'job_dict', 'example_dispatch_job.json'), JSON.stringify(example));
      const env = { PATH: process.env.PATH, ANALYSIS_INPUT_DIR: data, ANALYSIS_RESULTS_DIR: results };
      execFileSync(venvPython, [join(root, 'analyses', 'unit_filtering.py')], {
        env,
        cwd: scratch,
        stdio: 'ignore',
      });
      assert.deepEqual(JSON.parse(await readFile(join(results, 'outputs.json'), 'utf8')), {
        isi_violations: ['example_violation_1', 'example_violation_2'],
        additional_info: 'This is an example of additional information about the analysis.',
      });
      // A second task in job_dict/ is refused: a run is one task.
      await writeFile(join(data, 'job_dict', 'another.json'), JSON.stringify(example));
      assert.throws(
        () =>
          execFileSync(venvPython, [join(root, 'analyses', 'unit_filtering.py')], {
            env,
            cwd: scratch,
            stdio: 'pipe',
          }),
        (err: { status?: number; stderr?: Buffer }) =>
          err.status === 64 && /expected one task: .*job_dict holds 2 files/.test(String(err.stderr)),
      );
    },
  );

  void test('the helper installs from analyses/ with pip and imports from anywhere', withVenv, async () => {
    const target = await mkdtemp(join(scratch, 'site-'));
    const copy = await mkdtemp(join(scratch, 'src-'));
    for (const file of ['pyproject.toml', 'analysis_helper.py'])
      await writeFile(join(copy, file), await readFile(join(root, 'analyses', file)));
    execFileSync(
      join(venvBin, 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', target, copy],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const imported = execFileSync(
      venvPython,
      [
        '-I',
        '-c',
        `import sys; sys.path.insert(0, ${JSON.stringify(target)}); import analysis_helper as h; print(h.__file__, callable(h.run_analysis_jobs))`,
      ],
      { encoding: 'utf8', cwd: scratch },
    );
    assert.equal(imported.trim(), `${join(target, 'analysis_helper.py')} True`);
  });
});
