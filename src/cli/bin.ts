#!/usr/bin/env node
/**
 * The `nemovideo` executable (package `bin`). See docs/cli.md.
 *
 * @module
 */
import { main } from './main.js';

void main();
