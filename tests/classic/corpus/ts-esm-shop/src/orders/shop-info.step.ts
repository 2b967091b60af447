import path from 'node:path'
import type { ApiRouteConfig, Handlers } from 'motia'
import { catalog, dataDir } from '../lib/catalog.js'

export const config: ApiRouteConfig = {
  type: 'api',
  name: 'ShopInfo',
  method: 'GET',
  path: '/shop/info',
  emits: [],
  flows: ['shop'],
}

const projectDir = path.resolve(import.meta.dirname, '..', '..')

export const handler: Handlers['ShopInfo'] = async () => ({
  status: 200,
  body: { dataDir: path.relative(projectDir, dataDir), catalogSize: Object.keys(catalog).length },
})
