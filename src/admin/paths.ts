// Which paths are the admin API's. A module of its own so that the request path can tell an admin
// request apart without loading the admin API itself (src/app.ts loads it on the first one).

export function isAdminPath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}
