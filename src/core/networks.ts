/**
 * Networks and the containers' places on them. A network is a record (docker's
 * vocabulary: name, driver, IPAM, options, labels); an endpoint is one
 * container's address on one network, kept for as long as the container runs
 * (or, for a stopped container, as its wish: the network it joins at start).
 */

export type NetworkDriver = 'bridge' | 'host' | 'null';

export interface IpamPool {
  /** CIDR, e.g. 172.18.0.0/16. */
  Subnet: string;
  Gateway: string;
  /** Part of the subnet containers' addresses come from; the whole subnet when absent. */
  IPRange?: string;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: NetworkDriver;
  created: string;
  internal: boolean;
  attachable: boolean;
  /** The subnets the user asked for; false when berthd chose them. */
  userSubnet: boolean;
  ipam: IpamPool[];
  options: Record<string, string>;
  labels: Record<string, string>;
  /** The bridge device (bridge driver only). */
  bridge: string;
}

/** What a container asks of one network: docker's EndpointSettings, as sent at create or connect. */
export interface EndpointConfig {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
  MacAddress?: string;
  Links?: string[] | null;
  DriverOpts?: Record<string, string> | null;
}

/** A container's address on a network while it runs. */
export interface Endpoint {
  id: string;
  networkId: string;
  containerId: string;
  /** Interface name inside the container (eth0, eth1, ...). */
  ifname: string;
  /** Host side of the veth pair. */
  hostIf: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  /** Names the network's DNS answers for this container: its name, short ID, aliases. */
  dnsNames: string[];
}

/** A published port as it is in force. */
export interface PortMapping {
  containerId: string;
  /** The container's address the traffic goes to. */
  ip: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

export interface NetworkStore {
  get(id: string): NetworkRecord | undefined;
  byName(name: string): NetworkRecord | undefined;
  list(): NetworkRecord[];
  /** Inserts; Conflict when the name is taken. */
  put(record: NetworkRecord): void;
  delete(id: string): void;

  endpoints(filter?: { networkId?: string; containerId?: string }): Endpoint[];
  /** Inserts; Conflict when the address is already in use on that network. */
  putEndpoint(e: Endpoint): void;
  deleteEndpoint(id: string): void;

  ports(containerId?: string): PortMapping[];
  putPorts(containerId: string, ports: PortMapping[]): void;
  deletePorts(containerId: string): void;
}
