// Address helpers shared by the broker and the HTTP server.
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.') || address === 'localhost';
}
