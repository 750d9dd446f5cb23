#!/usr/bin/perl
# fcgispec probe app, contract version 1, as a CGI script (RFC 3875) for fcgiwrap, which runs it once per
# request with the FastCGI params as its environment and FCGI_STDIN on its standard input. The answers come
# from FcgispecProbe.pm beside this file.
#
# What a CGI script cannot do:
# - echo-data: CGI has no FCGI_DATA, so the answer is 501 "not implemented\n".
# - appStatus: the exit status of this script is PROBE_EXIT; whether it reaches FCGI_END_REQUEST is up to
#   the wrapper (fcgiwrap 1.1 always sends 0).
# - Params are environment variables: a value cannot hold a NUL byte and a name cannot hold '='; the
#   environment may hold variables the wrapper adds (FCGI_ROLE, PATH): use PROBE_PREFIX with echo-params.
# - FCGI_STDIN: CONTENT_LENGTH bytes are read (CGI's rule); without CONTENT_LENGTH, everything up to EOF.
use strict;
use warnings;
use FindBin ();
use lib $FindBin::Bin;
use FcgispecProbe;

binmode STDIN;
binmode STDOUT;
binmode STDERR;

my $stdin = '';
my $length = $ENV{CONTENT_LENGTH};
if (defined $length && $length =~ /\A[0-9]{1,10}\z/) {
    while (length $stdin < $length) {
        my $n = read(STDIN, $stdin, $length - length $stdin, length $stdin);
        last unless $n;
    }
} else {
    local $/;
    $stdin = <STDIN> // '';
}

my %params = %ENV;
my $exit = FcgispecProbe::answer(\%params, $ENV{FCGI_ROLE} // 'RESPONDER', $stdin, '', \*STDOUT, \*STDERR, { data => 0, stderr => 1 });
close STDOUT;
exit($exit & 0xff);
