"""The query analysis-pipeline-utils' get_docdb_records_partial sends for a record, for the tests.

Reads one JSON object from stdin with its keyword arguments (code_url, code_version,
input_data_locations, parameters) and prints the filter the function builds. Only the DocDB
client is replaced, by one that keeps the filter it is asked for: the tests run that filter
against the project's records collection themselves.
"""

import json
import sys

import analysis_pipeline_utils.metadata as metadata


class KeepsFilter:
    """Stands in for MetadataDbClient, which speaks to DocDB's HTTP API, not to a database here."""

    filters = []

    def retrieve_docdb_records(self, filter_query):
        self.filters.append(filter_query)
        return []


metadata.get_docdb_client = lambda *args, **kwargs: KeepsFilter()
metadata.get_docdb_records_partial(**json.loads(sys.stdin.read()))
print(json.dumps(KeepsFilter.filters[0]))
