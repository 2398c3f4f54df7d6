#include "plugins/build_signature.h"

#include <gtest/gtest.h>

#include "busbar/abi.h"

namespace busbar::host {
namespace {

const std::string kHost = "gcc-12.2;c++201703L;cxx11abi=1;boost=107400;poco=1.11.6;sdk=0123abcd";

TEST(BuildSignatureTest, EqualSignaturesDifferInNothing) {
  EXPECT_EQ(describeSignatureDifference(kHost, kHost), "");
  EXPECT_EQ(describeSignatureDifference(BUSBAR_BUILD_SIGNATURE, BUSBAR_BUILD_SIGNATURE), "");
}

TEST(BuildSignatureTest, AnEditedSdkIsNamedAsSuch) {
  const std::string edited = "gcc-12.2;c++201703L;cxx11abi=1;boost=107400;poco=1.11.6;sdk=ffff0000";
  const std::string text = describeSignatureDifference(kHost, edited);
  EXPECT_NE(text.find("SDK headers digest: this host 0123abcd, the plugin ffff0000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("edited"), std::string::npos) << text;
}

TEST(BuildSignatureTest, EachBuildOptionIsNamedWithTheSideThatHasIt) {
  EXPECT_EQ(describeSignatureDifference(kHost, kHost + ";glibcxx-debug"),
            "the plugin was built with _GLIBCXX_DEBUG, this host without");
  EXPECT_EQ(describeSignatureDifference(kHost + ";asan", kHost),
            "this host was built with AddressSanitizer, the plugin without");
  EXPECT_EQ(describeSignatureDifference(kHost, kHost + ";no-rtti;no-exceptions"),
            "the plugin was built with -fno-exceptions, this host without; the plugin was built "
            "with -fno-rtti, this host without");
}

TEST(BuildSignatureTest, AnotherCompilerAndLibraryVersionsAreEachNamed) {
  const std::string other =
      "clang-14.0;c++201703L;cxx11abi=1;boost=108300;poco=1.11.6;sdk=0123abcd";
  EXPECT_EQ(describeSignatureDifference(kHost, other),
            "Boost version: this host 107400, the plugin 108300; compiler: this host gcc-12.2, "
            "the plugin clang-14.0");
}

TEST(BuildSignatureTest, ASignatureOfAnOlderSdkLacksTheDigest) {
  const std::string old = "gcc-12.2;c++201703L;cxx11abi=1;boost=107400;poco=1.11.6";
  EXPECT_EQ(describeSignatureDifference(kHost, old),
            "SDK headers digest: this host 0123abcd, the plugin (none) (the plugin was built from "
            "SDK headers that differ from this host's, though the ABI version may be the same: an "
            "edited or another build's SDK)");
}

TEST(BuildSignatureTest, APluginOfAnOlderMinorCarriesThatMinorsDigestOrNoneBeforeDigests) {
  const std::string host = "gcc-12.2;c++201703L;cxx11abi=1;boost=107400;poco=1.11.6;sdk=" +
                           expectedSdkDigest(BUSBAR_ABI_MINOR);
  const std::string before_digests = "gcc-12.2;c++201703L;cxx11abi=1;boost=107400;poco=1.11.6";
  EXPECT_EQ(signatureRefusal(host, before_digests, 2), "");
  EXPECT_EQ(signatureRefusal(host, host, BUSBAR_ABI_MINOR), "");
  EXPECT_NE(signatureRefusal(host, before_digests, BUSBAR_ABI_MINOR), "");
  // Those SDKs wrote no build options: a host's own options are not asked of their plugins.
  EXPECT_EQ(signatureRefusal(host + ";asan", before_digests, 2), "");
  EXPECT_NE(signatureRefusal(host, "gcc-12.2;c++201703L;cxx11abi=1;boost=108300;poco=1.11.6", 2),
            "");
  // But a host with debug containers cannot know that such a plugin shares their layout.
  EXPECT_NE(signatureRefusal(host + ";glibcxx-debug", before_digests, 2).find("_GLIBCXX_DEBUG"),
            std::string::npos);
}

TEST(BuildSignatureTest, EveryReleasedMinorBeforeThisOneHasItsDigest) {
  // Without one, the host would refuse every plugin built against that released SDK.
  for (int minor = 3; minor < BUSBAR_ABI_MINOR; ++minor) {
    EXPECT_NE(expectedSdkDigest(minor), "(unknown)")
        << "ABI 1." << minor << ": add it to sdk/abi_digests.txt";
  }
}

}  // namespace
}  // namespace busbar::host
