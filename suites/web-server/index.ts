/**
 * Every web-server (client) scenario, listed explicitly: what the server sends, how it copes with the
 * application's answers, rejections, and how it uses its connections.
 */
import type { WebServerScenario } from './define.ts';
import { scenarios as requests } from './requests.scenario.ts';
import { scenarios as stdin } from './stdin.scenario.ts';
import { scenarios as response } from './response.scenario.ts';
import { scenarios as rejection } from './rejection.scenario.ts';
import { scenarios as connection } from './connection.scenario.ts';

export const webServerScenarios: readonly WebServerScenario[] = [...requests, ...stdin, ...response, ...rejection, ...connection];
