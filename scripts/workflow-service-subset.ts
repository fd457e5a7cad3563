/**
 * Writes src/temporal-rpc/workflow-service.json: the descriptors of the few WorkflowService
 * messages `status` sends and reads, taken from the SDK's own API definitions (@temporalio/proto),
 * in protobufjs's JSON form. Only the fields `status` reads are kept: a response decodes past the
 * others. Run it after upgrading @temporalio/proto (a unit test fails until the file matches):
 *   npx tsx scripts/workflow-service-subset.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import api from '@temporalio/proto/protos/root';
import { Enum, MapField, Type, type IEnum, type INamespace, type IType, type Root } from 'protobufjs';

/** The file `status` loads at run time. */
export const SUBSET_FILE = join(__dirname, '..', 'src', 'temporal-rpc', 'workflow-service.json');

const service = 'temporal.api.workflowservice.v1';
const history = 'temporal.api.history.v1';

/** The fields read or sent, by message; messages listed without fields are read for presence only. */
const FIELDS: Record<string, string[]> = {
  [`${service}.DescribeWorkflowExecutionRequest`]: ['namespace', 'execution'],
  [`${service}.DescribeWorkflowExecutionResponse`]: ['workflowExecutionInfo'],
  [`${service}.QueryWorkflowRequest`]: ['namespace', 'execution', 'query'],
  [`${service}.QueryWorkflowResponse`]: ['queryResult', 'queryRejected'],
  [`${service}.GetWorkflowExecutionHistoryRequest`]: [
    'namespace',
    'execution',
    'nextPageToken',
    'waitNewEvent',
    'historyEventFilterType',
    'skipArchival',
  ],
  [`${service}.GetWorkflowExecutionHistoryResponse`]: ['history', 'nextPageToken'],
  'temporal.api.workflow.v1.WorkflowExecutionInfo': ['execution', 'closeTime', 'status'],
  'temporal.api.common.v1.WorkflowExecution': ['workflowId', 'runId'],
  'temporal.api.common.v1.Payloads': ['payloads'],
  'temporal.api.common.v1.Payload': ['metadata', 'data'],
  'temporal.api.query.v1.WorkflowQuery': ['queryType'],
  'temporal.api.query.v1.QueryRejected': ['status'],
  'google.protobuf.Timestamp': ['seconds', 'nanos'],
  [`${history}.History`]: ['events'],
  [`${history}.HistoryEvent`]: [
    'eventId',
    'workflowExecutionCompletedEventAttributes',
    'workflowExecutionFailedEventAttributes',
    'workflowExecutionTimedOutEventAttributes',
    'workflowExecutionTerminatedEventAttributes',
    'workflowExecutionCanceledEventAttributes',
  ],
  [`${history}.WorkflowExecutionCompletedEventAttributes`]: ['result', 'newExecutionRunId'],
  [`${history}.WorkflowExecutionFailedEventAttributes`]: ['failure', 'newExecutionRunId'],
  [`${history}.WorkflowExecutionTimedOutEventAttributes`]: ['newExecutionRunId'],
  [`${history}.WorkflowExecutionTerminatedEventAttributes`]: ['reason'],
  [`${history}.WorkflowExecutionCanceledEventAttributes`]: [],
  'temporal.api.failure.v1.Failure': [
    'message',
    'cause',
    'applicationFailureInfo',
    'activityFailureInfo',
    'childWorkflowExecutionFailureInfo',
    'encodedAttributes',
  ],
  'temporal.api.failure.v1.ApplicationFailureInfo': ['type', 'details'],
  'temporal.api.failure.v1.ActivityFailureInfo': [],
  'temporal.api.failure.v1.ChildWorkflowExecutionFailureInfo': [],
};

type Definition = IType | IEnum;

/** Places a definition at its dotted name in a protobufjs JSON namespace. */
function place(namespace: INamespace, fullName: string, definition: Definition): void {
  const parts = fullName.split('.');
  let at = namespace;
  for (const part of parts.slice(0, -1)) {
    at.nested ??= {};
    at = (at.nested[part] ??= {}) as INamespace;
  }
  at.nested ??= {};
  at.nested[parts.at(-1)!] = definition;
}

/**
 * Sorts keys, so that the file changes only when the API does; but an enum's values stay in the
 * order of their numbers: protobufjs takes the first one as the field's default, which proto3 says
 * is 0, and a value equal to the default is left out of a decoded message.
 */
function sorted<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => {
        const child = (value as Record<string, unknown>)[key];
        if (key === 'values' && typeof child === 'object' && child !== null)
          return [
            key,
            Object.fromEntries(Object.entries(child).sort(([, a], [, b]) => Number(a) - Number(b))),
          ];
        return [key, sorted(child)];
      }),
  ) as T;
}

/** The subset, from the API definitions the SDK ships. */
export function workflowServiceSubset(): INamespace {
  // The SDK's generated module: every message of the API, as protobufjs reflection.
  const full = api as unknown as Root;
  full.resolveAll();
  const subset: INamespace = {};
  const enums = new Set<Enum>();
  for (const [name, fieldNames] of Object.entries(FIELDS)) {
    const type = full.lookupType(name);
    const fields: IType['fields'] = {};
    for (const fieldName of fieldNames) {
      const field = type.fields[fieldName];
      if (!field) throw new Error(`${name} has no field ${fieldName}`);
      const resolved = field.resolvedType;
      if (resolved instanceof Type && !(resolved.fullName.slice(1) in FIELDS))
        throw new Error(`${name}.${fieldName} is a ${resolved.fullName.slice(1)}, which is not listed`);
      if (resolved instanceof Enum) enums.add(resolved);
      fields[fieldName] = {
        type: resolved ? resolved.fullName.slice(1) : field.type,
        id: field.id,
        ...(field.repeated ? { rule: 'repeated' } : {}),
        ...(field instanceof MapField ? { keyType: field.keyType } : {}),
      };
    }
    place(subset, name, { fields });
  }
  for (const enumType of enums) place(subset, enumType.fullName.slice(1), { values: { ...enumType.values } });
  return sorted(subset);
}

if (require.main === module) {
  writeFileSync(SUBSET_FILE, `${JSON.stringify(workflowServiceSubset(), null, 2)}\n`);
  console.log(`wrote ${SUBSET_FILE}`);
}
