# fcgispec probe app, contract version 1, in Perl: the part shared by probe.pl (Perl FCGI) and probe.cgi
# (a CGI script, run by fcgiwrap). The contract is reference/probe/README.md; the reference app and this
# module answer alike. What each host cannot do is passed in as $can (see answer()).
package FcgispecProbe;

use strict;
use warnings;

our $CONTRACT_VERSION = 1;

my %REASONS = (200 => 'OK', 400 => 'Bad Request', 403 => 'Forbidden', 404 => 'Not Found', 501 => 'Not Implemented');

# A decimal param of 1..$digits digits, at most $max: undef when absent, -1 when malformed.
sub number {
    my ($params, $name, $digits, $max) = @_;
    my $raw = $params->{$name};
    return undef unless defined $raw;
    return -1 unless $raw =~ /\A[0-9]{1,$digits}\z/ && $raw <= $max;
    return $raw + 0;
}

sub head {
    my ($out, $status, $reason, @extra) = @_;
    print {$out} "Status: $status $reason\r\nContent-Type: application/octet-stream\r\n", map({ "$_\r\n" } @extra), "\r\n";
}

sub plain {
    my ($out, $status, $body) = @_;
    head($out, $status, $REASONS{$status} // 'Probe');
    print {$out} $body;
}

# Answers one request: writes the CGI response to $out (and PROBE_TEXT to $err for `stderr`), returns the
# appStatus asked for (PROBE_EXIT, or 0). $params: name => value (bytes); $role: RESPONDER, AUTHORIZER or
# FILTER; $stdin and $data: the bodies, already read in full (input before output). $can: { data => 0|1,
# stderr => 0|1 }: an action the host cannot perform answers 501 "not implemented\n".
sub answer {
    my ($params, $role, $stdin, $data, $out, $err, $can) = @_;
    my $exit = number($params, 'PROBE_EXIT', 10, 4294967295);
    if (defined $exit && $exit < 0) {
        plain($out, 400, "bad PROBE_EXIT\n");
        return 0;
    }
    $exit //= 0;
    if ($role eq 'AUTHORIZER') {
        my $auth = $params->{PROBE_AUTH};
        if (defined $auth && $auth eq 'allow') {
            head($out, 200, 'OK', 'Variable-PROBE: ok');
            print {$out} "authorized\n";
        } else {
            plain($out, 403, "forbidden\n");
        }
        return $exit;
    }
    my $action = $params->{PROBE_ACTION} // 'echo-stdin';
    if ($action eq 'echo-stdin') {
        plain($out, 200, $stdin);
    } elsif ($action eq 'echo-data') {
        if ($can->{data}) { plain($out, 200, $data) } else { plain($out, 501, "not implemented\n") }
    } elsif ($action eq 'echo-param') {
        my $name = $params->{PROBE_NAME};
        if (!defined $name) { plain($out, 400, "bad PROBE_NAME\n") }
        elsif (!defined $params->{$name}) { plain($out, 404, "no such param\n") }
        else { plain($out, 200, $params->{$name}) }
    } elsif ($action eq 'echo-params') {
        my $prefix = $params->{PROBE_PREFIX} // '';
        my @names = grep { substr($_, 0, length $prefix) eq $prefix } keys %$params;
        @names = sort @names; # string comparison of byte strings: bytewise
        plain($out, 200, join('', map { "$_=$params->{$_}\n" } @names));
    } elsif ($action eq 'bulk') {
        my $size = number($params, 'PROBE_SIZE', 10, 1073741824);
        if (!defined $size || $size < 0) {
            plain($out, 400, "bad PROBE_SIZE\n");
        } else {
            head($out, 200, 'OK');
            my $block = '0123456789' x 6552;
            for (my $left = $size; $left > 0; $left -= length $block) {
                print {$out} ($left >= length $block ? $block : substr($block, 0, $left));
            }
        }
    } elsif ($action eq 'sleep') {
        my $ms = number($params, 'PROBE_MS', 6, 600000);
        if (!defined $ms || $ms < 0) {
            plain($out, 400, "bad PROBE_MS\n");
        } else {
            select(undef, undef, undef, $ms / 1000);
            plain($out, 200, "slept\n");
        }
    } elsif ($action eq 'stderr') {
        if ($can->{stderr}) {
            my $text = $params->{PROBE_TEXT} // '';
            print {$err} $text if length $text;
            plain($out, 200, "ok\n");
        } else {
            plain($out, 501, "not implemented\n");
        }
    } elsif ($action eq 'status') {
        my $status = $params->{PROBE_STATUS} // '';
        if ($status =~ /\A[1-5][0-9][0-9]\z/) {
            head($out, $status, 'Probe');
            print {$out} "status\n";
        } else {
            plain($out, 400, "bad PROBE_STATUS\n");
        }
    } else {
        plain($out, 400, "unknown action\n");
    }
    return $exit;
}

1;
