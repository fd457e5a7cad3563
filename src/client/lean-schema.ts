/**
 * The few messages of Temporal's WorkflowService API that `status` reads, in protobufjs's JSON
 * form: names, field numbers and types exactly as in the API (a unit test checks each against the
 * SDK's full definitions). Fields left out are skipped when a response is decoded, so a response
 * carrying more than this, from a newer server, still decodes.
 *
 * Loading the SDK's client means building descriptors for the whole API (a third of a second of a
 * command that otherwise takes a tenth); these few build in a millisecond.
 */
const payloads = 'temporal.api.common.v1.Payloads';
const execution = 'temporal.api.common.v1.WorkflowExecution';

export const LEAN_SCHEMA = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
      },
    },
    temporal: {
      nested: {
        api: {
          nested: {
            common: {
              nested: {
                v1: {
                  nested: {
                    WorkflowExecution: {
                      fields: { workflowId: { type: 'string', id: 1 }, runId: { type: 'string', id: 2 } },
                    },
                    Payload: {
                      fields: {
                        metadata: { keyType: 'string', type: 'bytes', id: 1 },
                        data: { type: 'bytes', id: 2 },
                      },
                    },
                    Payloads: {
                      fields: {
                        payloads: { rule: 'repeated', type: 'temporal.api.common.v1.Payload', id: 1 },
                      },
                    },
                  },
                },
              },
            },
            enums: {
              nested: {
                v1: {
                  nested: {
                    WorkflowExecutionStatus: {
                      values: {
                        WORKFLOW_EXECUTION_STATUS_UNSPECIFIED: 0,
                        WORKFLOW_EXECUTION_STATUS_RUNNING: 1,
                        WORKFLOW_EXECUTION_STATUS_COMPLETED: 2,
                        WORKFLOW_EXECUTION_STATUS_FAILED: 3,
                        WORKFLOW_EXECUTION_STATUS_CANCELED: 4,
                        WORKFLOW_EXECUTION_STATUS_TERMINATED: 5,
                        WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: 6,
                        WORKFLOW_EXECUTION_STATUS_TIMED_OUT: 7,
                        WORKFLOW_EXECUTION_STATUS_PAUSED: 8,
                      },
                    },
                    HistoryEventFilterType: {
                      values: {
                        HISTORY_EVENT_FILTER_TYPE_UNSPECIFIED: 0,
                        HISTORY_EVENT_FILTER_TYPE_ALL_EVENT: 1,
                        HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: 2,
                      },
                    },
                  },
                },
              },
            },
            workflow: {
              nested: {
                v1: {
                  nested: {
                    WorkflowExecutionInfo: {
                      fields: {
                        execution: { type: execution, id: 1 },
                        closeTime: { type: 'google.protobuf.Timestamp', id: 4 },
                        status: { type: 'temporal.api.enums.v1.WorkflowExecutionStatus', id: 5 },
                      },
                    },
                  },
                },
              },
            },
            query: {
              nested: {
                v1: {
                  nested: {
                    WorkflowQuery: {
                      fields: { queryType: { type: 'string', id: 1 }, queryArgs: { type: payloads, id: 2 } },
                    },
                    QueryRejected: {
                      fields: { status: { type: 'temporal.api.enums.v1.WorkflowExecutionStatus', id: 1 } },
                    },
                  },
                },
              },
            },
            failure: {
              nested: {
                v1: {
                  nested: {
                    ApplicationFailureInfo: {
                      fields: { type: { type: 'string', id: 1 }, details: { type: payloads, id: 3 } },
                    },
                    // Read only for whether they are there: the failure is an activity's or a child's.
                    ActivityFailureInfo: { fields: {} },
                    ChildWorkflowExecutionFailureInfo: { fields: {} },
                    Failure: {
                      fields: {
                        message: { type: 'string', id: 1 },
                        cause: { type: 'temporal.api.failure.v1.Failure', id: 4 },
                        applicationFailureInfo: {
                          type: 'temporal.api.failure.v1.ApplicationFailureInfo',
                          id: 5,
                        },
                        activityFailureInfo: { type: 'temporal.api.failure.v1.ActivityFailureInfo', id: 11 },
                        childWorkflowExecutionFailureInfo: {
                          type: 'temporal.api.failure.v1.ChildWorkflowExecutionFailureInfo',
                          id: 12,
                        },
                        encodedAttributes: { type: 'temporal.api.common.v1.Payload', id: 20 },
                      },
                    },
                  },
                },
              },
            },
            history: {
              nested: {
                v1: {
                  nested: {
                    WorkflowExecutionCompletedEventAttributes: {
                      fields: {
                        result: { type: payloads, id: 1 },
                        newExecutionRunId: { type: 'string', id: 3 },
                      },
                    },
                    WorkflowExecutionFailedEventAttributes: {
                      fields: {
                        failure: { type: 'temporal.api.failure.v1.Failure', id: 1 },
                        newExecutionRunId: { type: 'string', id: 4 },
                      },
                    },
                    WorkflowExecutionTimedOutEventAttributes: {
                      fields: { newExecutionRunId: { type: 'string', id: 2 } },
                    },
                    WorkflowExecutionTerminatedEventAttributes: {
                      fields: { reason: { type: 'string', id: 1 } },
                    },
                    WorkflowExecutionCanceledEventAttributes: { fields: {} },
                    HistoryEvent: {
                      fields: {
                        eventId: { type: 'int64', id: 1 },
                        workflowExecutionCompletedEventAttributes: {
                          type: 'temporal.api.history.v1.WorkflowExecutionCompletedEventAttributes',
                          id: 7,
                        },
                        workflowExecutionFailedEventAttributes: {
                          type: 'temporal.api.history.v1.WorkflowExecutionFailedEventAttributes',
                          id: 8,
                        },
                        workflowExecutionTimedOutEventAttributes: {
                          type: 'temporal.api.history.v1.WorkflowExecutionTimedOutEventAttributes',
                          id: 9,
                        },
                        workflowExecutionTerminatedEventAttributes: {
                          type: 'temporal.api.history.v1.WorkflowExecutionTerminatedEventAttributes',
                          id: 27,
                        },
                        workflowExecutionCanceledEventAttributes: {
                          type: 'temporal.api.history.v1.WorkflowExecutionCanceledEventAttributes',
                          id: 29,
                        },
                      },
                    },
                    History: {
                      fields: {
                        events: { rule: 'repeated', type: 'temporal.api.history.v1.HistoryEvent', id: 1 },
                      },
                    },
                  },
                },
              },
            },
            workflowservice: {
              nested: {
                v1: {
                  nested: {
                    DescribeWorkflowExecutionRequest: {
                      fields: { namespace: { type: 'string', id: 1 }, execution: { type: execution, id: 2 } },
                    },
                    DescribeWorkflowExecutionResponse: {
                      fields: {
                        workflowExecutionInfo: {
                          type: 'temporal.api.workflow.v1.WorkflowExecutionInfo',
                          id: 2,
                        },
                      },
                    },
                    QueryWorkflowRequest: {
                      fields: {
                        namespace: { type: 'string', id: 1 },
                        execution: { type: execution, id: 2 },
                        query: { type: 'temporal.api.query.v1.WorkflowQuery', id: 3 },
                      },
                    },
                    QueryWorkflowResponse: {
                      fields: {
                        queryResult: { type: payloads, id: 1 },
                        queryRejected: { type: 'temporal.api.query.v1.QueryRejected', id: 2 },
                      },
                    },
                    GetWorkflowExecutionHistoryRequest: {
                      fields: {
                        namespace: { type: 'string', id: 1 },
                        execution: { type: execution, id: 2 },
                        nextPageToken: { type: 'bytes', id: 4 },
                        waitNewEvent: { type: 'bool', id: 5 },
                        historyEventFilterType: {
                          type: 'temporal.api.enums.v1.HistoryEventFilterType',
                          id: 6,
                        },
                        skipArchival: { type: 'bool', id: 7 },
                      },
                    },
                    GetWorkflowExecutionHistoryResponse: {
                      fields: {
                        history: { type: 'temporal.api.history.v1.History', id: 1 },
                        nextPageToken: { type: 'bytes', id: 3 },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** The service whose methods `status` calls, as the gRPC path names it. */
export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
