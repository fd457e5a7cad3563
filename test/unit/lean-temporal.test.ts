import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import {
  CancelledFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
  RetryState,
  TerminatedFailure,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import fullRoot from '@temporalio/proto/protos/root';
import Long from 'long';
import { Enum, Root, Type, type INamespace, type ReflectionObject } from 'protobufjs';
import { LEAN_SCHEMA } from '../../src/client/lean-schema';
import { failureClose } from '../../src/client/follow/reads';
import { decodeMessage, encodeMessage } from '../../src/client/lean-codec';
import { decodePayload, grpcTarget, readCloseEvent, Unsupported } from '../../src/client/lean-temporal';
import { closedOutcome } from '../../src/client/lean-status';
import { closedOutcome as outcomeOfClose, resultOutcome, type Outcome } from '../../src/dispatch-outcome';
import type { DispatchResult } from '../../src/workflows/messages';

/** What the SDK path makes of a dispatch whose result threw `err`. */
const failureOutcome = (err: WorkflowFailedError) => outcomeOfClose(failureClose(err));

const lean = Root.fromJSON(LEAN_SCHEMA as unknown as INamespace);
const full = fullRoot as unknown as Root;

function* definitions(object: ReflectionObject): Generator<Type | Enum> {
  if (object instanceof Type || object instanceof Enum) yield object;
  const nested = (object as { nestedArray?: ReflectionObject[] }).nestedArray ?? [];
  for (const child of nested) yield* definitions(child);
}

const json = (value: unknown) => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

describe('lean reads of a workflow', () => {
  test("every message, field and enum value of the lean schema is the API's own", () => {
    lean.resolveAll();
    full.resolveAll();
    let fields = 0;
    for (const definition of definitions(lean)) {
      const name = definition.fullName.slice(1);
      if (definition instanceof Enum) {
        const api = full.lookupEnum(name);
        for (const [value, number] of Object.entries(definition.values))
          assert.equal(api.values[value], number, `${name}.${value}`);
        continue;
      }
      const api = full.lookupType(name);
      for (const field of definition.fieldsArray) {
        const real = api.fields[field.name];
        assert.ok(real, `${name}.${field.name} is not in the API`);
        assert.equal(field.id, real.id, `${name}.${field.name} number`);
        assert.equal(field.repeated, real.repeated, `${name}.${field.name} repeated`);
        assert.equal(field.map, real.map, `${name}.${field.name} map`);
        const type = (f: typeof field) => (f.resolvedType ? f.resolvedType.fullName : f.type);
        assert.equal(type(field), type(real), `${name}.${field.name} type`);
        fields++;
      }
    }
    assert.ok(fields > 40, `${fields} fields checked`);
  });

  test('close events encoded with the API decode to the outcomes the SDK makes of them', () => {
    const { HistoryEvent } = temporal.api.history.v1;
    const progress = { phase: 'failed', counts: { failed: 3 } };
    const appFailure = (message: string, type: string, details: unknown[]) => ({
      message,
      stackTrace: 'ApplicationFailure: ...',
      applicationFailureInfo: { type, nonRetryable: true, details: { payloads: details.map(json) } },
    });
    const failures: temporal.api.failure.v1.IFailure[] = [
      appFailure('3 tasks failed', 'TasksFailed', [progress]),
      appFailure('untyped', '', []),
      // Planning failed: an activity's failure around the workflow's own error, as a real dispatch's.
      {
        message: 'Activity task failed',
        activityFailureInfo: { activityType: { name: 'planDispatch' }, identity: 'w1' },
        cause: appFailure('--query matched no assets', 'InvalidInput', []),
      },
      {
        message: 'Child Workflow execution failed',
        childWorkflowExecutionFailureInfo: {
          namespace: 'default',
          workflowType: { name: 'job' },
          workflowExecution: { workflowId: 'dispatch-x-job-1' },
        },
        cause: {
          message: 'Activity task failed',
          activityFailureInfo: { activityType: { name: 'runTask' } },
          cause: appFailure('disk', 'Error', []),
        },
      },
    ];
    const cases: Array<{ event: temporal.api.history.v1.IHistoryEvent; sdk: Outcome }> = [
      {
        event: { workflowExecutionCompletedEventAttributes: { result: { payloads: [json(progress)] } } },
        sdk: resultOutcome(progress as unknown as DispatchResult),
      },
      ...failures.map((failure) => ({
        event: { workflowExecutionFailedEventAttributes: { failure } },
        sdk: failureOutcome(
          new WorkflowFailedError(
            'Workflow execution failed',
            defaultFailureConverter.failureToError(failure, defaultPayloadConverter),
            RetryState.NON_RETRYABLE_FAILURE,
          ),
        ),
      })),
      {
        event: { workflowExecutionCanceledEventAttributes: {} },
        sdk: failureOutcome(
          new WorkflowFailedError(
            '',
            new CancelledFailure('Workflow canceled'),
            RetryState.NON_RETRYABLE_FAILURE,
          ),
        ),
      },
      {
        event: { workflowExecutionTerminatedEventAttributes: { reason: 'stopped by ops', identity: 'cli' } },
        sdk: failureOutcome(
          new WorkflowFailedError(
            '',
            new TerminatedFailure('stopped by ops'),
            RetryState.NON_RETRYABLE_FAILURE,
          ),
        ),
      },
    ];
    for (const { event, sdk } of cases) {
      const bytes = HistoryEvent.encode(event).finish();
      const read = readCloseEvent(decodeMessage('temporal.api.history.v1.HistoryEvent', bytes));
      assert.deepEqual(closedOutcome(read), sdk, JSON.stringify(event).slice(0, 120));
    }
    // A run that went on in another (a retry or cron run) is followed by the SDK, not here.
    const continued = HistoryEvent.encode({
      workflowExecutionCompletedEventAttributes: { newExecutionRunId: 'r2' },
    }).finish();
    assert.throws(
      () => readCloseEvent(decodeMessage('temporal.api.history.v1.HistoryEvent', continued)),
      Unsupported,
    );
    // A failure converter that encodes the message needs that converter to read it.
    const encoded = HistoryEvent.encode({
      workflowExecutionFailedEventAttributes: {
        failure: {
          message: 'Encoded failure',
          encodedAttributes: json({ message: 'secret' }),
          applicationFailureInfo: {},
        },
      },
    }).finish();
    assert.throws(
      () => readCloseEvent(decodeMessage('temporal.api.history.v1.HistoryEvent', encoded)),
      Unsupported,
    );
  });

  test('requests encode as the API decodes them; responses decode past the fields left out', () => {
    const { workflowservice } = temporal.api;
    const history = workflowservice.v1.GetWorkflowExecutionHistoryRequest.decode(
      encodeMessage('temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest', {
        namespace: 'ns',
        execution: { workflowId: 'dispatch-x' },
        nextPageToken: Buffer.from([0, 1, 255]),
        waitNewEvent: true,
        historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
        skipArchival: true,
      }),
    );
    assert.equal(history.namespace, 'ns');
    assert.equal(history.execution?.workflowId, 'dispatch-x');
    assert.deepEqual([...history.nextPageToken], [0, 1, 255]);
    assert.equal(history.waitNewEvent, true);
    assert.equal(history.skipArchival, true);
    assert.equal(
      history.historyEventFilterType,
      temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    );
    const query = workflowservice.v1.QueryWorkflowRequest.decode(
      encodeMessage('temporal.api.workflowservice.v1.QueryWorkflowRequest', {
        namespace: 'ns',
        execution: { workflowId: 'w' },
        query: { queryType: 'progress' },
      }),
    );
    assert.equal(query.query?.queryType, 'progress');

    // A full description, most of it not in the lean schema.
    const description = workflowservice.v1.DescribeWorkflowExecutionResponse.encode({
      executionConfig: { taskQueue: { name: 'analysis' } },
      workflowExecutionInfo: {
        execution: { workflowId: 'w', runId: 'r' },
        type: { name: 'dispatch' },
        startTime: { seconds: Long.fromNumber(1_700_000_000) },
        closeTime: { seconds: Long.fromNumber(1_700_000_100), nanos: 250_000_000 },
        status: temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        historyLength: Long.fromNumber(42),
        memo: { fields: { note: json('x') } },
        searchAttributes: { indexedFields: { DispatchId: json('d1') } },
        taskQueue: 'analysis',
      },
      pendingActivities: [{ activityId: '1', attempt: 3 }],
    }).finish();
    assert.deepEqual(
      decodeMessage('temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse', description),
      {
        workflowExecutionInfo: {
          execution: { workflowId: 'w', runId: 'r' },
          closeTime: { seconds: 1_700_000_100, nanos: 250_000_000 },
          status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED',
        },
      },
    );
  });

  test('closedOutcome reads each ending as the SDK path does', () => {
    assert.deepEqual(
      closedOutcome({
        kind: 'failed',
        failure: {
          kind: 'activity',
          message: 'Activity task failed',
          cause: { kind: 'application', message: 'no assets', type: 'InvalidInput', details: [] },
        },
      }),
      { status: 'failed', error: 'no assets', errorType: 'InvalidInput' },
    );
    assert.deepEqual(
      closedOutcome({
        kind: 'failed',
        failure: {
          kind: 'application',
          message: '3 tasks failed',
          type: 'TasksFailed',
          details: [{ phase: 'x' }],
        },
      }),
      { status: 'failed', progress: { phase: 'x' }, error: '3 tasks failed', errorType: 'TasksFailed' },
    );
    assert.deepEqual(closedOutcome({ kind: 'cancelled' }), { status: 'cancelled' });
    assert.deepEqual(closedOutcome({ kind: 'terminated', reason: '' }), {
      status: 'terminated',
      error: 'Workflow execution terminated',
      errorType: undefined,
    });
    assert.equal(closedOutcome({ kind: 'timed_out' }).status, 'timed_out');
  });

  test('grpcTarget gives Temporal its port where the address has none', () => {
    assert.equal(grpcTarget(undefined), 'localhost:7233');
    assert.equal(grpcTarget('temporal.internal'), 'temporal.internal:7233');
    assert.equal(grpcTarget('ns.acct.tmprl.cloud:7233'), 'ns.acct.tmprl.cloud:7233');
    assert.equal(grpcTarget('[::1]:7234'), '[::1]:7234');
    assert.equal(grpcTarget('[::1]'), '[::1]:7233');
    assert.throws(() => grpcTarget('http://x:1/y'), Unsupported);
  });

  test('payloads of the default converter are read; others are left to the SDK', () => {
    assert.deepEqual(decodePayload(json({ a: [1, 'b'] })), { a: [1, 'b'] });
    assert.equal(decodePayload({ metadata: { encoding: Buffer.from('binary/null') } }), undefined);
    assert.throws(
      () =>
        decodePayload({ metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('x') }),
      Unsupported,
    );
  });
});
