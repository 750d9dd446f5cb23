<?php
/*
 * fcgispec probe app, contract version 1, for php-fpm and php-cgi.
 * The contract is reference/probe/README.md (the reference app and this file answer alike).
 *
 * What PHP cannot do, and answers instead:
 * - echo-data: PHP does not read FCGI_DATA, so the answer is 501 Not Implemented (body "not implemented\n").
 * - PROBE_EXIT is checked (400 when malformed) but cannot set appStatus: php-fpm and php-cgi always send 0.
 * - stderr: error_log() reaches FCGI_STDERR (with fastcgi.logging on, the default) as PROBE_TEXT plus "\n".
 * - FCGI_STDIN is read through php://input, which PHP fills only up to CONTENT_LENGTH: send that param
 *   (web servers do), and run PHP with post_max_size=0 for large bodies.
 * - $_SERVER also holds PHP's own variables (and, for php-cgi, its environment): use a distinctive
 *   PROBE_PREFIX with echo-params.
 */

const PROBE_CONTRACT_VERSION = 1;

function probe_param(string $name): ?string
{
    return isset($_SERVER[$name]) && is_string($_SERVER[$name]) ? $_SERVER[$name] : null;
}

/** A number param: null when absent, false when malformed or above $max. */
function probe_number(string $name, int $digits, int $max)
{
    $raw = probe_param($name);
    if ($raw === null) {
        return null;
    }
    if (!preg_match('/^[0-9]{1,' . $digits . '}$/D', $raw) || (int) $raw > $max) {
        return false;
    }
    return (int) $raw;
}

function probe_answer(int $status, string $body, array $extraHeaders = [], ?string $reason = null): void
{
    static $reasons = [200 => 'OK', 400 => 'Bad Request', 403 => 'Forbidden', 404 => 'Not Found', 501 => 'Not Implemented'];
    header('Status: ' . $status . ' ' . ($reason ?? ($reasons[$status] ?? 'Probe')));
    header('Content-Type: application/octet-stream');
    foreach ($extraHeaders as $h) {
        header($h);
    }
    echo $body;
}

function probe_main(): void
{
    $role = probe_param('FCGI_ROLE') ?? 'RESPONDER';
    $stdin = file_get_contents('php://input');
    if ($stdin === false) {
        $stdin = '';
    }
    if (probe_number('PROBE_EXIT', 10, 4294967295) === false) {
        probe_answer(400, "bad PROBE_EXIT\n");
        return;
    }
    if ($role === 'AUTHORIZER') {
        if (probe_param('PROBE_AUTH') === 'allow') {
            probe_answer(200, "authorized\n", ['Variable-PROBE: ok']);
        } else {
            probe_answer(403, "forbidden\n");
        }
        return;
    }
    $action = probe_param('PROBE_ACTION') ?? 'echo-stdin';
    switch ($action) {
        case 'echo-stdin':
            probe_answer(200, $stdin);
            return;
        case 'echo-data':
            probe_answer(501, "not implemented\n");
            return;
        case 'echo-param':
            $name = probe_param('PROBE_NAME');
            if ($name === null) {
                probe_answer(400, "bad PROBE_NAME\n");
            } elseif (!isset($_SERVER[$name]) || !is_string($_SERVER[$name])) {
                probe_answer(404, "no such param\n");
            } else {
                probe_answer(200, $_SERVER[$name]);
            }
            return;
        case 'echo-params':
            $prefix = probe_param('PROBE_PREFIX') ?? '';
            $selected = [];
            foreach ($_SERVER as $k => $v) {
                $k = (string) $k;
                if (is_string($v) && strncmp($k, $prefix, strlen($prefix)) === 0) {
                    $selected[$k] = $v;
                }
            }
            uksort($selected, 'strcmp'); // bytewise
            $body = '';
            foreach ($selected as $k => $v) {
                $body .= $k . '=' . $v . "\n";
            }
            probe_answer(200, $body);
            return;
        case 'bulk':
            $size = probe_number('PROBE_SIZE', 10, 1073741824);
            if ($size === null || $size === false) {
                probe_answer(400, "bad PROBE_SIZE\n");
                return;
            }
            probe_answer(200, '');
            $block = str_repeat('0123456789', 6552);
            for ($left = $size; $left > 0; $left -= strlen($block)) {
                echo $left >= strlen($block) ? $block : substr($block, 0, $left);
            }
            return;
        case 'sleep':
            $ms = probe_number('PROBE_MS', 6, 600000);
            if ($ms === null || $ms === false) {
                probe_answer(400, "bad PROBE_MS\n");
                return;
            }
            usleep($ms * 1000);
            probe_answer(200, "slept\n");
            return;
        case 'stderr':
            $text = probe_param('PROBE_TEXT') ?? '';
            if ($text !== '') {
                error_log($text);
            }
            probe_answer(200, "ok\n");
            return;
        case 'status':
            $status = probe_param('PROBE_STATUS') ?? '';
            if (!preg_match('/^[1-5][0-9][0-9]$/D', $status)) {
                probe_answer(400, "bad PROBE_STATUS\n");
                return;
            }
            probe_answer((int) $status, "status\n", [], 'Probe');
            return;
        default:
            probe_answer(400, "unknown action\n");
            return;
    }
}

probe_main();
