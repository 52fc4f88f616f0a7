/** Docker's wire shapes for networks, and the network parts of container inspect and list. */
import type { ContainerRecord } from '../../engine/engine.js';
import type { Endpoint, EndpointConfig, NetworkRecord, PortMapping } from '../../engine/networks.js';

/** docker's `null` driver is shown as `null`; its IPAM driver is always `default`. */
export function networkInspect(n: NetworkRecord, members: Array<{ container: ContainerRecord | undefined; endpoint: Endpoint }>, verbose = true) {
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.ipam.map((p) => ({ Subnet: p.Subnet, Gateway: p.Gateway, ...(p.IPRange ? { IPRange: p.IPRange } : {}) })) },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: verbose
      ? Object.fromEntries(
          members.map(({ container, endpoint: e }) => [
            e.containerId,
            { Name: container?.name ?? '', EndpointID: e.id, MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefixLen}`, IPv6Address: '' },
          ]),
        )
      : {},
    Options: n.options,
    Labels: n.labels,
  };
}

function endpointSettings(n: NetworkRecord | undefined, cfg: EndpointConfig | undefined, e: Endpoint | undefined) {
  return {
    IPAMConfig: cfg?.IPAMConfig ?? null,
    Links: cfg?.Links ?? null,
    Aliases: cfg?.Aliases ?? null,
    MacAddress: e?.mac ?? '',
    DriverOpts: cfg?.DriverOpts ?? null,
    GwPriority: 0,
    NetworkID: n?.id ?? '',
    EndpointID: e?.id ?? '',
    Gateway: e?.gateway ?? '',
    IPAddress: e?.ip ?? '',
    IPPrefixLen: e?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: e?.dnsNames.length ? e.dnsNames : null,
  };
}

export interface NetworkView {
  networks: (name: string) => NetworkRecord | undefined;
  endpoints: Array<{ network: NetworkRecord; endpoint: Endpoint }>;
  ports: PortMapping[];
}

/** `NetworkSettings.Ports`: every exposed or published port, with its host bindings while they are in force. */
export function portMap(c: ContainerRecord, ports: PortMapping[]): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  const keys = new Set([...Object.keys(c.config.ExposedPorts ?? {}), ...Object.keys((c.hostConfig.PortBindings as object | null) ?? {})]);
  for (const k of keys) out[k.includes('/') ? k : `${k}/tcp`] = null;
  for (const p of ports) {
    const k = `${p.containerPort}/${p.protocol}`;
    (out[k] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}

export function containerNetworkSettings(c: ContainerRecord, view: NetworkView) {
  const running = c.state.Status === 'running' || c.state.Status === 'paused';
  const networks: Record<string, ReturnType<typeof endpointSettings>> = {};
  const byName = new Map(view.endpoints.map((x) => [x.network.name, x]));
  for (const [name, cfg] of Object.entries(c.networks ?? { [c.hostConfig.NetworkMode]: {} })) {
    const live = byName.get(name);
    networks[name] = endpointSettings(live?.network ?? view.networks(name), cfg, live?.endpoint);
  }
  const primary = view.endpoints.find((x) => x.network.name === 'bridge')?.endpoint;
  return {
    Bridge: '',
    SandboxID: '',
    SandboxKey: running && c.state.Pid ? `/proc/${c.state.Pid}/ns/net` : '',
    Ports: portMap(c, running ? view.ports : []),
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: primary?.id ?? '',
    Gateway: primary?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: primary?.ip ?? '',
    IPPrefixLen: primary?.prefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: primary?.mac ?? '',
    Networks: networks,
  };
}

/** `docker ps`'s view: published ports as a list, and the networks with their addresses. */
export function summaryNetworking(c: ContainerRecord, view: NetworkView) {
  const ports = [
    ...view.ports.map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })),
    ...Object.keys(c.config.ExposedPorts ?? {})
      .filter((k) => !view.ports.some((p) => `${p.containerPort}/${p.protocol}` === (k.includes('/') ? k : `${k}/tcp`)))
      .map((k) => {
        const [port, proto] = k.split('/');
        return { PrivatePort: Number(port), Type: proto ?? 'tcp' };
      }),
  ];
  const settings = containerNetworkSettings(c, view);
  return { Ports: ports, NetworkSettings: { Networks: settings.Networks } };
}
