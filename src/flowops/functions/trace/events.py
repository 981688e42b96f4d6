"""Inputs of the trace handlers, as the state machine passes them (see trace_workflow.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from flowops.trace.pipeline import DeliveryOutcome, InstanceSet, JobsProgress, TraceReportSummary
from flowops.trace.request import TraceContext, TracePlan


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ValidateEvent(_Event):
    trace: TraceContext


class QueryEvent(_Event):
    trace: TraceContext
    plan: TracePlan


class StartJobsEvent(_Event):
    trace: TraceContext
    instances: InstanceSet


class CheckJobsEvent(_Event):
    trace: TraceContext
    plan: TracePlan
    jobs: JobsProgress


class AnalyzeEvent(_Event):
    trace: TraceContext
    plan: TracePlan
    instances: InstanceSet
    jobs: JobsProgress


class DeliverEvent(_Event):
    trace: TraceContext
    payload: dict[str, Any]


class RecordEvent(_Event):
    trace: TraceContext
    report: TraceReportSummary
    delivery: DeliveryOutcome


class RedriveEvent(_Event):
    max_messages: int = 100
