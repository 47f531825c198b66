/**
 * The Temporal server's cluster membership, as `orch status` shows it: the server's own AdminService
 * (served by the frontend on the same gRPC port as the WorkflowService) answers DescribeCluster with
 * the membership rings, one per service role, and the persistence it runs on. The SDK has no client
 * for that service, so AdminConnection adds one to the SDK's Connection: same channel, TLS, API key,
 * metadata and deadlines; only the messages of that one call, defined here by protobufjs reflection.
 */
import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { ConnectionCtorOptions } from '@temporalio/client/lib/connection';
import * as protobuf from 'protobufjs';

const ADMIN_SERVICE = 'temporal.server.api.adminservice.v1.AdminService';

/**
 * temporal/server/api/adminservice/v1 (request_response.proto, service.proto, cluster.proto): DescribeCluster and what
 * it needs.
 */
const ADMIN_ROOT = protobuf.Root.fromJSON({
  nested: {
    temporal: {
      nested: {
        server: {
          nested: {
            api: {
              nested: {
                adminservice: {
                  nested: {
                    v1: {
                      nested: {
                        AdminService: {
                          methods: {
                            DescribeCluster: {
                              requestType: 'DescribeClusterRequest',
                              responseType: 'DescribeClusterResponse',
                            },
                          },
                        },
                        DescribeClusterRequest: { fields: { clusterName: { type: 'string', id: 1 } } },
                        DescribeClusterResponse: {
                          fields: {
                            serverVersion: { type: 'string', id: 2 },
                            membershipInfo: { type: 'MembershipInfo', id: 3 },
                            clusterName: { type: 'string', id: 5 },
                            historyShardCount: { type: 'int32', id: 6 },
                            persistenceStore: { type: 'string', id: 7 },
                            visibilityStore: { type: 'string', id: 8 },
                          },
                        },
                        MembershipInfo: {
                          fields: {
                            currentHost: { type: 'HostInfo', id: 1 },
                            reachableMembers: { rule: 'repeated', type: 'string', id: 2 },
                            rings: { rule: 'repeated', type: 'RingInfo', id: 3 },
                          },
                        },
                        RingInfo: {
                          fields: {
                            role: { type: 'string', id: 1 },
                            memberCount: { type: 'int32', id: 2 },
                            members: { rule: 'repeated', type: 'HostInfo', id: 3 },
                          },
                        },
                        HostInfo: { fields: { identity: { type: 'string', id: 1 } } },
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
});

interface HostInfo {
  identity?: string;
}

export interface DescribeClusterResponse {
  serverVersion?: string;
  membershipInfo?: {
    currentHost?: HostInfo | null;
    reachableMembers?: string[];
    rings?: Array<{ role?: string; memberCount?: number; members?: HostInfo[] }>;
  } | null;
  clusterName?: string;
  historyShardCount?: number;
  persistenceStore?: string;
  visibilityStore?: string;
}

/** The one call of the server's AdminService that status makes. */
export interface AdminService {
  describeCluster(request: { clusterName?: string }): Promise<DescribeClusterResponse>;
}

/** The SDK's Connection with the server's AdminService on the same channel. */
export class AdminConnection extends Connection {
  readonly adminService: AdminService;

  protected constructor(ctorOptions: ConnectionCtorOptions) {
    super(ctorOptions);
    const rpcImpl = Connection.generateRPCImplementation({
      serviceName: ADMIN_SERVICE,
      client: this.client,
      callContextStorage: this.callContextStorage,
      interceptors: this.options.interceptors,
      staticMetadata: this.options.metadata,
      apiKeyFnRef: ctorOptions.apiKeyFnRef,
    });
    const service = ADMIN_ROOT.lookupService(ADMIN_SERVICE).create(rpcImpl, false, false) as unknown as {
      describeCluster(request: { clusterName?: string }): Promise<protobuf.Message>;
    };
    const responseType = ADMIN_ROOT.lookupType(
      `${ADMIN_SERVICE.replace(/\.AdminService$/, '')}.DescribeClusterResponse`,
    );
    this.adminService = {
      async describeCluster(request) {
        const response = await service.describeCluster(request);
        return responseType.toObject(response, { defaults: true, arrays: true }) as DescribeClusterResponse;
      },
    };
  }

  /** Like Connection.connect (it checks the server answers), with the AdminService. */
  static override async connect(options?: ConnectionOptions): Promise<AdminConnection> {
    return (await super.connect(options)) as AdminConnection;
  }
}

/** What DescribeCluster says of the cluster, for `orch status --json`. */
export interface TemporalClusterStatus {
  /** false: the server refused the AdminService (Temporal Cloud does), so membership is not visible. */
  visible: boolean;
  /** Why it is not visible, or why the call failed. */
  error?: string;
  /** The gRPC status code of that refusal or failure. */
  error_code?: number;
  cluster_name?: string;
  server_version?: string;
  history_shard_count?: number;
  persistence_store?: string;
  visibility_store?: string;
  /** The frontend that answered (its gRPC address, as in the frontend ring): behind a balancer, any of them. */
  current_host?: string;
  /** Every membership (ringpop) address the answering host reaches: one per service of each node. */
  reachable_members?: string[];
  /** One ring per service role: the gRPC address (host:port) of each member. */
  rings?: Array<{ role: string; member_count: number; members: string[] }>;
}

/** gRPC codes that mean "this server does not let you see its administration": not a failure of the deployment. */
export const ADMIN_REFUSED_CODES: ReadonlySet<number> = new Set([
  7, // PERMISSION_DENIED
  12, // UNIMPLEMENTED
  16, // UNAUTHENTICATED
]);

/** The cluster's membership through `connection`, or why it cannot be seen. */
export async function describeTemporalCluster(
  connection: AdminConnection,
  timeoutMs: number,
): Promise<TemporalClusterStatus> {
  let response: DescribeClusterResponse;
  try {
    response = await connection.withDeadline(Date.now() + timeoutMs, () => connection.adminService.describeCluster({}));
  } catch (error) {
    // A gRPC error's message is `<code> <CODE_NAME>: <details>`.
    const code = (error as { code?: unknown }).code;
    return {
      visible: false,
      error: error instanceof Error ? error.message : String(error),
      ...(typeof code === 'number' ? { error_code: code } : {}),
    };
  }
  const membership = response.membershipInfo ?? {};
  const rings = (membership.rings ?? [])
    .map((ring) => ({
      role: ring.role ?? '',
      member_count: ring.memberCount ?? 0,
      members: (ring.members ?? [])
        .map((m) => m.identity ?? '')
        .filter((m) => m !== '')
        .sort(compareAddresses),
    }))
    .sort((a, b) => a.role.localeCompare(b.role));
  return {
    visible: true,
    cluster_name: response.clusterName || undefined,
    server_version: response.serverVersion || undefined,
    history_shard_count: response.historyShardCount ?? undefined,
    persistence_store: response.persistenceStore || undefined,
    visibility_store: response.visibilityStore || undefined,
    current_host: membership.currentHost?.identity || undefined,
    reachable_members: [...(membership.reachableMembers ?? [])].sort(compareAddresses),
    rings,
  };
}

/** host:port addresses by host, then by port as a number. */
export function compareAddresses(a: string, b: string): number {
  const [ha, pa] = splitAddress(a);
  const [hb, pb] = splitAddress(b);
  return ha.localeCompare(hb) || pa - pb || a.localeCompare(b);
}

export function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  if (i < 0) return [address, 0];
  const port = Number(address.slice(i + 1));
  return [address.slice(0, i), Number.isFinite(port) ? port : 0];
}
