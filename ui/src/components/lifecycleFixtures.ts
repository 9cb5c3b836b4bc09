// Shared fixtures of the inventory / rotate / decommission component tests.
import type { DecommissionPlan, DisposalRecord, InventoryCamera } from "../lib/api";

export function inventoryCamera(overrides: Partial<InventoryCamera>): InventoryCamera {
  return {
    camera: "host:127.0.0.1:8001",
    url: "http://127.0.0.1:8001/onvif/device_service",
    manufacturer: "Camsim",
    model: "CS-2000",
    serial: "CS0001",
    mac: "02:ca:5e:00:00:01",
    firmware: "1.4.2",
    last_audit_at: null,
    last_audit_score: null,
    last_audit_level: null,
    certificate_not_after: null,
    certificate_days_left: null,
    admin: "admin",
    credential_state: "current",
    credential_set_at: "2026-12-01T12:00:00Z",
    credential_age_days: 0,
    decommissioned_at: null,
    ...overrides,
  };
}

export function plan(overrides: Partial<DecommissionPlan> = {}): DecommissionPlan {
  return {
    camera: "host:127.0.0.1:8001",
    url: "http://127.0.0.1:8001/onvif/device_service",
    manufacturer: "Camsim",
    model: "CS-2000",
    serial: "CS0001",
    firmware: "1.4.2",
    mac: "02:ca:5e:00:00:01",
    camera_users: ["admin"],
    credentials: ["admin"],
    certificate: null,
    ...overrides,
  };
}

export function record(overrides: Partial<DisposalRecord> = {}): DisposalRecord {
  return {
    camera: "host:127.0.0.1:8001",
    url: "http://127.0.0.1:8001/onvif/device_service",
    manufacturer: "Camsim",
    model: "CS-2000",
    serial: "CS0001",
    firmware: "1.4.2",
    mac: "02:ca:5e:00:00:01",
    decommissioned_by: "installer",
    started_at: "2026-12-01T12:00:00Z",
    finished_at: "2026-12-01T12:00:04Z",
    reset: { kind: "hard", via: "ONVIF SetSystemFactoryDefault Hard", network_kept: false },
    result: { status: "proven" },
    proof: {
      factory_state: "ONVIF answers without credentials (factory state: no users)",
      address: "127.0.0.1",
      found_by: ["same-address"],
      link_local: false,
      matched_by: "address",
      users: "none (GetUsers without credentials lists no user)",
      seen_at: "2026-12-01T12:00:04Z",
    },
    credentials_retired: ["admin"],
    credentials_kept: [],
    certificate_to_revoke: null,
    checklist: ["Remove the camera from the VMS"],
    ...overrides,
  };
}
